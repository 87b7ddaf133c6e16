export { testBotInfo } from './bot-info.js';
export { createBotApiEmulator } from './emulator.js';
export type {
  BotApiEmulator,
  CallbackQueryOptions,
  RecordedRequest,
  UserMessageOptions,
  WaitOptions,
} from './types.js';
export type { BotApiEmulatorOptions } from './options.js';
export type { CallbackAnswer } from './chats.js';
export type { EmulatorFaults, Fault, FaultOptions, InjectedFault } from './faults.js';
export type { TelegramErrorBody } from './api-error.js';
export type { UploadedFile } from './params.js';
export type { WebhookDelivery } from './webhook.js';
export { DEFAULT_UPDATE_LIFETIMES_MS, UPDATE_TYPES, type UpdateType } from './update-queue.js';
