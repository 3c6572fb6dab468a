import { HttpRequest, HttpResponse, InvocationContext, type HttpResponseInit } from '@azure/functions';

export type Handler = (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>;

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: <T = Record<string, unknown>>() => T;
}

/** Calls a handler with the real request and context classes, as the Functions worker would. */
export async function call(
  handler: Handler,
  path: string,
  options: {
    method?: string;
    params?: Record<string, string>;
    headers?: Record<string, string>;
    body?: string;
  } = {},
): Promise<Answer> {
  const request = new HttpRequest({
    method: options.method ?? 'GET',
    url: `http://localhost:7071${path}`,
    headers: options.headers ?? {},
    params: options.params ?? {},
    ...(options.body === undefined ? {} : { body: { string: options.body } }),
  });
  const logs: unknown[][] = [];
  const context = new InvocationContext({
    functionName: 'test',
    logHandler: (_level, ...args) => logs.push(args),
  });
  const init = await handler(request, context);
  const response = new HttpResponse(init);
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    text,
    json: <T>() => JSON.parse(text) as T,
  };
}

export interface ErrorAnswer {
  error: { code: string; message: string };
}
