import pg from 'pg';

/** The channel migration 008's triggers notify. */
const CHANNEL = 'stowage_row_changes';
/** How the listening connection names itself in pg_stat_activity. */
export const CHANGE_FEED_APPLICATION = 'stowage-change-feed';

/** What changed, as the database announces it: file rows, buckets (`<tenant>/<bucket>`), or anything. */
export type RowChange = { files: string[] } | { buckets: string[] } | 'everything';

export interface ChangeFeedHandlers {
  onChange(change: RowChange): void;
  /**
   * True once listening (again): anything may have changed while it was not. False as soon as the
   * connection fails: changes are not heard until it is true again.
   */
  onState(listening: boolean): void;
}

const parse = (payload: string): RowChange => {
  const ids = payload.slice(2).split(',');
  if (payload.startsWith('f:')) return { files: ids };
  if (payload.startsWith('b:')) return { buckets: ids };
  return 'everything';
};

/**
 * Listens to the changes the database announces (LISTEN on a connection of its own, not the pool's),
 * reconnecting after `retryMs` whenever the connection fails. A connection that dies without a word (a
 * network gone, a server frozen) is noticed by a query every `heartbeatMs` that must answer within as
 * long; until then the handlers hear nothing, which is why what they cache expires anyway.
 */
export class ChangeFeed {
  private client: pg.Client | undefined;
  private retry: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly url: string,
    private readonly options: { retryMs?: number; heartbeatMs?: number } = {},
  ) {}

  start(handlers: ChangeFeedHandlers): void {
    this.stopped = false;
    void this.connect(handlers);
  }

  private async connect(handlers: ChangeFeedHandlers): Promise<void> {
    const heartbeatMs = this.options.heartbeatMs ?? 5000;
    const client = new pg.Client({
      connectionString: this.url,
      application_name: CHANGE_FEED_APPLICATION,
      query_timeout: heartbeatMs,
    });
    this.client = client;
    let lost = false;
    const onLost = () => {
      if (lost) return;
      lost = true;
      clearInterval(this.heartbeat);
      handlers.onState(false);
      client.end().catch(() => {});
      if (!this.stopped) {
        this.retry = setTimeout(() => void this.connect(handlers), this.options.retryMs ?? 1000);
        this.retry.unref();
      }
    };
    client.on('error', onLost);
    client.on('end', onLost);
    client.on('notification', (message) => handlers.onChange(parse(message.payload ?? '*')));
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
    } catch {
      onLost();
      return;
    }
    if (lost || this.stopped) return;
    handlers.onState(true);
    this.heartbeat = setInterval(() => client.query('SELECT 1').catch(onLost), heartbeatMs);
    this.heartbeat.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    clearInterval(this.heartbeat);
    await this.client?.end().catch(() => {});
  }
}
