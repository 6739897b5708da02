// Server-sent events read with fetch, so that the request carries this tab's token (an
// EventSource cannot send an Authorization header). The events are parsed by
// eventsource-parser; a 401 asks the shell for the sign-in page.
import { createParser } from "eventsource-parser";
import { signedRequest, useSessionStore } from "./session";

export interface EventHandlers {
  /** The server answered and the stream is open. */
  onOpen?: () => void;
  onEvent: (name: string, data: string) => void;
  /** The stream ended (the server closed it, or it failed); not called after the caller stops. */
  onClose?: () => void;
}

/** Follows the event stream at `url` until the returned function is called. */
export function followEvents(url: string, handlers: EventHandlers): () => void {
  const controller = new AbortController();
  void (async () => {
    const signed = signedRequest();
    try {
      const response = await fetch(url, { headers: { accept: "text/event-stream", ...signed.headers }, signal: controller.signal });
      if (response.status === 401) useSessionStore.getState().requireSignIn(signed.token);
      if (!response.ok || response.body === null) {
        handlers.onClose?.();
        return;
      }
      handlers.onOpen?.();
      const parser = createParser({ onEvent: (event) => handlers.onEvent(event.event ?? "message", event.data) });
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parser.feed(value);
      }
      handlers.onClose?.();
    } catch {
      if (!controller.signal.aborted) handlers.onClose?.();
    }
  })();
  return () => controller.abort();
}
