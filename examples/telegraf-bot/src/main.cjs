'use strict';
// Runs the Telegraf example against Telegram (or BOT_API_ROOT); SIGTERM/SIGINT stop it gracefully.
const { redact } = require('@botkit/core');
const { configFromEnv, createApp } = require('./create-bot.cjs');

function jsonLogger(secrets) {
  const write = (level) => (objOrMsg, msg) => {
    const fields = typeof objOrMsg === 'object' && objOrMsg !== null ? { ...objOrMsg } : {};
    if (fields.err instanceof Error)
      fields.err = { name: fields.err.name, message: fields.err.message, code: fields.err.code };
    let line = JSON.stringify({
      time: new Date().toISOString(),
      level,
      msg: typeof objOrMsg === 'string' ? objOrMsg : msg,
      ...fields,
    });
    for (const secret of secrets) if (secret) line = line.split(secret).join('[redacted]');
    (level === 'error' ? process.stderr : process.stdout).write(`${redact(line)}\n`);
  };
  return { debug: () => {}, info: write('info'), warn: write('warn'), error: write('error') };
}

async function main() {
  let config;
  try {
    config = configFromEnv(process.env);
  } catch (error) {
    console.error(`configuration error: ${error.message}`);
    process.exit(2);
  }
  const logger = jsonLogger([config.token, config.webhook?.secretToken]);
  const app = await createApp({ ...config, logger });
  app.shutdown.install();
  try {
    await app.start();
  } catch (error) {
    logger.error({ err: error }, 'start failed');
    process.exitCode = 1;
    await app.stop('start failed');
  }
}

main();
