import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { credentials, readSettings, saveCredentials } from './settings.ts';
import { UsageError } from './usage-error.ts';

describe('settings', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stw-settings-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('keeps credentials under XDG_CONFIG_HOME and uploads under XDG_STATE_HOME, else in the home folder', () => {
    const set = readSettings({ XDG_CONFIG_HOME: '/cfg', XDG_STATE_HOME: '/state' });
    assert.equal(set.credentialsFile, '/cfg/stowage/credentials.json');
    assert.equal(set.uploadsDir, '/state/stowage');
    const unset = readSettings({ XDG_CONFIG_HOME: 'relative/is/ignored' });
    assert.equal(unset.credentialsFile, join(homedir(), '.config', 'stowage', 'credentials.json'));
    assert.equal(unset.uploadsDir, join(homedir(), '.local', 'state', 'stowage'));
  });

  it('takes a multipart threshold in bytes, and names the variable when it is not one', () => {
    assert.equal(readSettings({}).multipartThreshold, undefined);
    assert.equal(readSettings({ STW_MULTIPART_THRESHOLD: '5242880' }).multipartThreshold, 5_242_880);
    for (const bad of ['0', '5MiB', '-1', '']) {
      assert.throws(() => readSettings({ STW_MULTIPART_THRESHOLD: bad }), /STW_MULTIPART_THRESHOLD/);
    }
  });

  it('saves credentials 0600 and reads them back; the environment overrides each', async () => {
    const env = { XDG_CONFIG_HOME: join(dir, 'config') };
    const set = readSettings(env);
    await assert.rejects(credentials(set), UsageError, 'not logged in yet');
    await saveCredentials(set.credentialsFile, { url: 'http://a.test', apiKey: 'stw_live_a', bucket: 'b' });
    assert.equal((await stat(set.credentialsFile)).mode & 0o777, 0o600);
    assert.deepEqual(await credentials(set), { url: 'http://a.test', apiKey: 'stw_live_a', bucket: 'b' });
    const overridden = readSettings({ ...env, STOWAGE_API_KEY: 'stw_live_z', STOWAGE_BUCKET: 'y' });
    assert.deepEqual(await credentials(overridden), {
      url: 'http://a.test',
      apiKey: 'stw_live_z',
      bucket: 'y',
    });

    await saveCredentials(set.credentialsFile, { url: 'http://c.test', apiKey: 'stw_live_c' });
    assert.deepEqual(JSON.parse(await readFile(set.credentialsFile, 'utf8')), {
      url: 'http://c.test',
      apiKey: 'stw_live_c',
    });
    await writeFile(set.credentialsFile, '{not json');
    await assert.rejects(credentials(set), /not valid JSON/);
  });
});
