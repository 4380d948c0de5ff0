import type { z } from 'zod';

/** A command: a validated request and a typed response. */
export interface CommandSpec<Req extends z.ZodType, Res> {
  request: Req;
  /** Type-only marker for the response. */
  response?: Res;
}

export function command<Req extends z.ZodType, Res>(request: Req): CommandSpec<Req, Res> {
  return { request };
}

/** An event pushed from main to the renderer; the payload type only. */
export interface EventSpec<Payload> {
  payload?: Payload;
}

export function event<Payload>(): EventSpec<Payload> {
  return {};
}
