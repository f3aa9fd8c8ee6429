// @module Incremental Server-Sent Events parser: bytes arrive split anywhere, whole events come out.

/** One dispatched SSE event (`event:` defaults to "message"; `data:` lines joined with "\n"). */
export interface SseEvent {
  event: string;
  data: string;
}

/**
 * Feeds raw response bytes in whatever pieces the transport delivers them and returns the events
 * completed by each piece. Follows the WHATWG event-stream rules the OpenAI clients rely on:
 * lines end in LF, CRLF or CR; a blank line dispatches; `:` lines are comments; one optional space
 * after the colon is dropped; events with no `data:` line are not dispatched.
 */
export class SseParser {
  readonly #decoder = new TextDecoder('utf-8');
  #buffer = '';
  #data: string[] = [];
  #event = '';
  /** A chunk that ended in "\r" may be the first half of "\r\n": skip a leading "\n" next time. */
  #skipLeadingLf = false;

  /** Adds a piece of the byte stream (multi-byte UTF-8 characters may be split across pieces). */
  push(chunk: Uint8Array | string): SseEvent[] {
    const text = typeof chunk === 'string' ? chunk : this.#decoder.decode(chunk, { stream: true });
    return this.#consume(text);
  }

  /**
   * Ends the stream. Unlike the browser EventSource, a last event with no closing blank line is
   * still dispatched (as vLLM's client does): a server that ends on `data: [DONE]` loses nothing.
   */
  end(): SseEvent[] {
    const events = this.#consume(this.#decoder.decode());
    const tail = this.#line(this.#buffer) ?? this.#line('');
    if (tail) events.push(tail);
    this.#buffer = '';
    this.#data = [];
    this.#event = '';
    return events;
  }

  #consume(text: string): SseEvent[] {
    if (this.#skipLeadingLf && text.length > 0) {
      if (text.startsWith('\n')) text = text.slice(1);
      this.#skipLeadingLf = false;
    }
    this.#buffer += text;
    const events: SseEvent[] = [];
    let start = 0;
    for (;;) {
      const cr = this.#buffer.indexOf('\r', start);
      const lf = this.#buffer.indexOf('\n', start);
      if (cr === -1 && lf === -1) break;
      const end = cr === -1 ? lf : lf === -1 ? cr : Math.min(cr, lf);
      const line = this.#buffer.slice(start, end);
      if (this.#buffer[end] === '\r') {
        if (end + 1 === this.#buffer.length) this.#skipLeadingLf = true;
        start = this.#buffer[end + 1] === '\n' ? end + 2 : end + 1;
      } else {
        start = end + 1;
      }
      const event = this.#line(line);
      if (event) events.push(event);
    }
    this.#buffer = this.#buffer.slice(start);
    return events;
  }

  #line(line: string): SseEvent | undefined {
    if (line === '') {
      if (this.#data.length === 0) {
        this.#event = '';
        return undefined;
      }
      const event = { event: this.#event || 'message', data: this.#data.join('\n') };
      this.#data = [];
      this.#event = '';
      return event;
    }
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.#data.push(value);
    else if (field === 'event') this.#event = value;
    // `id:` and `retry:` do not matter to a benchmark client.
    return undefined;
  }
}
