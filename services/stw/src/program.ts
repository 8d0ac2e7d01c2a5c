import { createRequire } from 'node:module';
import { Command, Option } from 'commander';
import { audit, type AuditFlags } from './commands/audit.ts';
import { get } from './commands/get.ts';
import { createKey, listKeys, revokeKey, type CreateKeyFlags } from './commands/keys.ts';
import { list, type ListFlags } from './commands/list.ts';
import { login, type LoginFlags } from './commands/login.ts';
import { removeBucket } from './commands/remove-bucket.ts';
import { remove } from './commands/remove.ts';
import { sign } from './commands/sign.ts';
import { tag } from './commands/tag.ts';
import { tenant } from './commands/tenant.ts';
import { upload, type UploadFlags } from './commands/upload.ts';
import { usage } from './commands/usage.ts';
import { listDeliveries, retryDelivery, type DeliveriesFlags } from './commands/webhooks.ts';
import type { Context } from './context.ts';
import { parseCount, parseDuration, parseSince } from './format.ts';
import { EXIT_OK, Output } from './output.ts';
import { readSettings } from './settings.ts';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

const HELP_AFTER = `
Log in once with \`stw login\` (or set STOWAGE_URL and STOWAGE_API_KEY).
Exit codes: 0 ok, 1 the API refused (or the network or a disk failed), 2 the command was given wrongly.`;

/**
 * Runs stw with these arguments (as `process.argv` has them) and gives its exit code. Errors end here:
 * each is reported once, on stderr (and in the `--json` document), and mapped to its exit code.
 */
export async function run(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let exitCode = EXIT_OK;
  let output = new Output(false);
  const program = new Command('stw')
    .description('The Stowage command line: upload, list, get, remove and share files.')
    .version(version)
    .option('--json', 'print one JSON document on stdout, for scripts')
    .exitOverride()
    .showHelpAfterError('(stw --help lists the commands; stw <command> --help tells more)')
    .addHelpText('after', HELP_AFTER);

  /** A command's action, with the context every command gets and its exit code kept. */
  const action =
    <A extends unknown[]>(work: (context: Context, ...args: A) => Promise<number> | Promise<void>) =>
    async (...args: A) => {
      const json = program.opts<{ json?: boolean }>().json ?? false;
      output = new Output(json);
      exitCode = (await work({ settings: readSettings(env), output }, ...args)) ?? EXIT_OK;
    };

  program
    .command('login')
    .description('check a key against the API and keep it, with the URL, for the next commands')
    .option('--url <url>', 'where the API is, e.g. https://files.example.com')
    .option('--key <key>', 'the API key (asked for, without echo, when left out)')
    .option('--bucket <bucket>', 'the bucket of commands that name none')
    .action(action((context, flags: LoginFlags) => login(flags, context)));

  program
    .command('upload')
    .description('upload files and folders (recursively); run it again to continue an interrupted one')
    .argument('<paths...>', 'files and folders')
    .option('-b, --bucket <bucket>', 'the bucket to upload into (default: the one of `stw login`)')
    .option('--private', 'only keys of the tenant and signed URLs may read the files')
    .addOption(
      new Option(
        '--expires-in <duration>',
        'delete the files after this long (600, 10m, 12h, 30d)',
      ).argParser(parseDuration),
    )
    .addOption(new Option('-c, --concurrency <n>', 'files uploaded at once').argParser(parseCount).default(4))
    .option('--force', 'upload files again that an earlier run uploaded')
    .action(action((context, paths: string[], flags: UploadFlags) => upload(paths, flags, context)));

  program
    .command('ls')
    .description("list a bucket's files, oldest first (or newest, --order desc)")
    .argument('[bucket]', 'default: the one of `stw login`')
    .addOption(
      new Option('--page-size <n>', 'files asked for per request, up to 1000')
        .argParser(parseCount)
        .default(1000),
    )
    .option('--tag <tag>', 'only files with this tag')
    .option('--search <text>', 'only files whose name contains this, in any case')
    .option('--type <type>', 'image, video, audio, document, archive, other, or a MIME type or image/*')
    .addOption(new Option('--order <order>', 'by upload time').choices(['asc', 'desc']))
    .action(action((context, bucket: string | undefined, flags: ListFlags) => list(bucket, flags, context)));

  program
    .command('tag')
    .description("set a file's tags (replacing the ones it has)")
    .argument('<file>', '<bucket>/<key>')
    .argument('[tags...]')
    .option('--clear', 'remove every tag')
    .action(
      action((context, target: string, tags: string[], flags: { clear?: boolean }) =>
        tag(target, tags, flags, context),
      ),
    );

  program
    .command('get')
    .description('download a file, byte for byte')
    .argument('<file>', '<bucket>/<key>, or a file URL')
    .option('-o, --output <path>', 'where to write it (a folder, or - for stdout; default: its name here)')
    .action(
      action((context, target: string, flags: { output?: string }) => get(target, flags.output, context)),
    );

  program
    .command('rm')
    .description('remove files with their variants')
    .argument('<files...>', '<bucket>/<key> of each')
    .action(action((context, targets: string[]) => remove(targets, context)));

  program
    .command('rm-bucket')
    .description('remove a bucket and every file in it (needs an admin key)')
    .argument('<bucket>')
    .action(action((context, bucket: string) => removeBucket(bucket, context)));

  program
    .command('usage')
    .description("the tenant's quota and what it stores")
    .action(action((context) => usage(context)));

  program
    .command('tenant')
    .description('the tenant: quota, rate limits, origins and declared buckets')
    .action(action((context) => tenant(context)));

  const keys = program.command('keys').description("the tenant's API keys");
  keys
    .command('ls')
    .description('list the keys, without their secrets')
    .action(action((context) => listKeys(context)));
  keys
    .command('create')
    .description('mint a key (needs an admin key); its secret is printed this once')
    .argument('<name>')
    .addOption(
      new Option('--scopes <scopes>', 'read, write, admin, comma-separated')
        .argParser((value) => value.split(',') as CreateKeyFlags['scopes'])
        .makeOptionMandatory(),
    )
    .addOption(new Option('--mode <mode>').choices(['live', 'test']).makeOptionMandatory())
    .option('--expires <time>', 'when it stops working (ISO 8601)')
    .option('--origin <origin...>', 'origins browsers may use it from')
    .action(action((context, name: string, flags: CreateKeyFlags) => createKey(name, flags, context)));
  keys
    .command('revoke')
    .description('revoke a key minted through the API')
    .argument('<id>')
    .action(action((context, id: string) => revokeKey(id, context)));

  const webhooks = program.command('webhooks').description("the tenant's webhook deliveries (admin)");
  webhooks
    .command('deliveries')
    .description('list deliveries, newest first, with their last attempt')
    .addOption(new Option('--status <status>').choices(['pending', 'delivered', 'failed']))
    .option('--cursor <cursor>', 'the page after the one that printed it')
    .addOption(new Option('--limit <n>', 'deliveries per page (default 50)').argParser(parseCount))
    .action(action((context, flags: DeliveriesFlags) => listDeliveries(flags, context)));
  webhooks
    .command('retry')
    .description('send a delivery once more')
    .argument('<id>')
    .action(action((context, id: string) => retryDelivery(id, context)));

  program
    .command('audit')
    .description("the tenant's audit log, newest first: who did what, from where (needs an admin key)")
    .addOption(
      new Option(
        '--since <time>',
        'only entries since then: an ISO 8601 time, or 30m, 12h, 7d ago',
      ).argParser((text: string) => parseSince(text)),
    )
    .option('--action <action>', 'only this action, e.g. uploadFile, deleteFile, createKey')
    .addOption(new Option('-n, --limit <n>', 'at most this many entries, the newest').argParser(parseCount))
    .action(action((context, flags: AuditFlags) => audit(flags, context)));

  program
    .command('sign')
    .description('a URL that serves a file to whoever holds it, until it expires')
    .argument('<file>', '<bucket>/<key>')
    .addOption(
      new Option(
        '-e, --expires <duration>',
        'how long it works: seconds, or 10m, 12h, 7d (default 1h)',
      ).argParser(parseDuration),
    )
    .action(
      action((context, target: string, flags: { expires?: number }) => sign(target, flags.expires, context)),
    );

  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    return output.fail(error);
  }
}
