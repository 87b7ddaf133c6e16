/**
 * Runs the example bot against Telegram (or BOT_API_ROOT). Configuration: environment variables,
 * see the README. SIGTERM / SIGINT stop it gracefully within SHUTDOWN_TIMEOUT_MS.
 */
import { configFromEnv, createApp } from './create-bot.js';
import { createJsonLogger, type Level } from './logger.js';

const level = (process.env.LOG_LEVEL as Level | undefined) ?? 'info';
let config: ReturnType<typeof configFromEnv>;
try {
  config = configFromEnv(process.env);
} catch (error) {
  console.error(`configuration error: ${(error as Error).message}`);
  process.exit(2);
}
const logger = createJsonLogger({
  level,
  name: 'example-grammy-bot',
  secrets: [config.token, config.webhook?.secretToken ?? ''],
});
const app = await createApp({ ...config, logger });
app.shutdown.install(); // SIGTERM, SIGINT: ordered teardown, then exit 0 (1 if anything failed)
try {
  await app.start();
} catch (error) {
  logger.error({ err: error }, 'start failed');
  process.exitCode = 1;
  await app.stop('start failed');
}
