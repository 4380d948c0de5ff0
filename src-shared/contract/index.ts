import type { z } from 'zod';
import { annotationsCommands, annotationsEvents } from './annotations';
import { augmentCommands, augmentEvents } from './augment';
import { datasetsCommands, datasetsEvents } from './datasets';
import type { CommandSpec, EventSpec } from './define';
import { galleryCommands, galleryEvents } from './gan-gallery';
import { ganCommands, ganEvents } from './gan';
import type { Result } from './errors';
import { runsCommands, runsEvents } from './runs';
import { slicesCommands, slicesEvents } from './slices';
import { studiesCommands, studiesEvents } from './studies';
import { systemCommands, systemEvents } from './system';
import { trainingCommands, trainingEvents } from './training';
import { experimentsCommands, experimentsEvents } from './experiments';

/**
 * The one contract between the renderer and the back end. Channel names are `domain:verb`, derived
 * from the keys; the preload API, the HTTP routes and the renderer's AppApi are all derived from it.
 */
export const contract = {
  system: { commands: systemCommands, events: systemEvents },
  datasets: { commands: datasetsCommands, events: datasetsEvents },
  slices: { commands: slicesCommands, events: slicesEvents },
  training: { commands: trainingCommands, events: trainingEvents },
  runs: { commands: runsCommands, events: runsEvents },
  augment: { commands: augmentCommands, events: augmentEvents },
  studies: { commands: studiesCommands, events: studiesEvents },
  gallery: { commands: galleryCommands, events: galleryEvents },
  experiments: { commands: experimentsCommands, events: experimentsEvents },
  gan: { commands: ganCommands, events: ganEvents },
  annotations: { commands: annotationsCommands, events: annotationsEvents },
} as const;

type Contract = typeof contract;
export type Domain = keyof Contract;

type CommandsOf<D extends Domain> = Contract[D]['commands'];
type EventsOf<D extends Domain> = Contract[D]['events'];

export type CommandChannel = { [D in Domain]: `${D}:${keyof CommandsOf<D> & string}` }[Domain];
export type EventChannel = { [D in Domain]: `${D}:${keyof EventsOf<D> & string}` }[Domain];

type SpecOf<C extends CommandChannel> = C extends `${infer D extends Domain}:${infer V}` ? (V extends keyof CommandsOf<D> ? CommandsOf<D>[V] : never) : never;
type EventSpecOf<C extends EventChannel> = C extends `${infer D extends Domain}:${infer V}` ? (V extends keyof EventsOf<D> ? EventsOf<D>[V] : never) : never;

export type RequestOf<C extends CommandChannel> = SpecOf<C> extends CommandSpec<infer Req, unknown> ? z.input<Req> : never;
export type ParsedRequestOf<C extends CommandChannel> = SpecOf<C> extends CommandSpec<infer Req, unknown> ? z.output<Req> : never;
export type ResponseOf<C extends CommandChannel> = SpecOf<C> extends CommandSpec<z.ZodType, infer Res> ? Res : never;
export type PayloadOf<C extends EventChannel> = EventSpecOf<C> extends EventSpec<infer P> ? P : never;

/** Every command channel, in contract order. */
export const COMMAND_CHANNELS = (Object.keys(contract) as Domain[]).flatMap((domain) =>
  Object.keys(contract[domain].commands).map((verb) => `${domain}:${verb}` as CommandChannel),
);
export const EVENT_CHANNELS = (Object.keys(contract) as Domain[]).flatMap((domain) =>
  Object.keys(contract[domain].events).map((verb) => `${domain}:${verb}` as EventChannel),
);

export function requestSchema(channel: CommandChannel): z.ZodType {
  const [domain, verb] = channel.split(':') as [Domain, string];
  return (contract[domain].commands as Record<string, CommandSpec<z.ZodType, unknown>>)[verb]!.request;
}

type DomainApi<D extends Domain> = {
  [V in keyof CommandsOf<D> & string]: (request: RequestOf<`${D}:${V}` & CommandChannel>) => Promise<Result<ResponseOf<`${D}:${V}` & CommandChannel>>>;
} & {
  [V in keyof EventsOf<D> & string as `on${Capitalize<V>}`]: (listener: (payload: PayloadOf<`${D}:${V}` & EventChannel>) => void) => () => void;
};

/** The renderer's view of the back end: a method per command, an `onXxx` subscription per event. */
export type AppApi = { [D in Domain]: DomainApi<D> };

/** What a transport provides underneath the API; never exposed to page code itself. */
export interface Transport {
  invoke(channel: CommandChannel, request: unknown): Promise<Result<unknown>>;
  subscribe(channel: EventChannel, listener: (payload: unknown) => void): () => void;
}

/** Builds the AppApi by mapping over the contract, so no method is written twice. */
export function createApi(transport: Transport): AppApi {
  const api: Record<string, Record<string, unknown>> = {};
  for (const domain of Object.keys(contract) as Domain[]) {
    const methods: Record<string, unknown> = {};
    for (const verb of Object.keys(contract[domain].commands)) {
      const channel = `${domain}:${verb}` as CommandChannel;
      methods[verb] = (request: unknown) => transport.invoke(channel, request ?? {});
    }
    for (const name of Object.keys(contract[domain].events)) {
      const channel = `${domain}:${name}` as EventChannel;
      methods[`on${name[0]!.toUpperCase()}${name.slice(1)}`] = (listener: (payload: unknown) => void) => transport.subscribe(channel, listener);
    }
    api[domain] = methods;
  }
  return api as unknown as AppApi;
}

/** Implementation of every command (main side); transports only call these. */
export type CommandHandlers = { [C in CommandChannel]: (request: ParsedRequestOf<C>) => Promise<ResponseOf<C>> };

export type { Result };
export * from './errors';
export * from './transform-parameters';
export type * from './datasets';
export type * from './slices';
export type * from './training';
export type * from './runs';
export { isRunId, runIdSchema } from './runs';
export type * from './system';
export type * from './augment';
export type * from './studies';
export type * from './gan-gallery';
export type * from './gan-pairs';
export type * from './experiments';
export type * from './gan';
export type * from './annotations';
export { ANNOTATION_SOURCES, ANNOTATION_STATUSES } from './annotations';
