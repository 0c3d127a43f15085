/** A multipart/form-data body as a browser or curl sends it, for HTTP tests. */
export function multipartBody(parts: readonly ({ name: string; value: string } | { name: string; filename: string; contentType: string; content: string | Uint8Array })[]): {
  payload: Buffer;
  headers: Record<string, string>;
} {
  const boundary = `----orderstream${crypto.randomUUID().replaceAll('-', '')}`;
  const chunks: Buffer[] = [];
  for (const part of parts) {
    if ('filename' in part) {
      chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"; filename="${part.filename}"\r\nContent-Type: ${part.contentType}\r\n\r\n`));
      chunks.push(typeof part.content === 'string' ? Buffer.from(part.content) : Buffer.from(part.content));
      chunks.push(Buffer.from('\r\n'));
    } else {
      chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"\r\n\r\n${part.value}\r\n`));
    }
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

/** A CSV upload of `content` as the part "file". */
export function csvUpload(content: string | Uint8Array, contentType = 'text/csv'): { payload: Buffer; headers: Record<string, string> } {
  return multipartBody([{ name: 'file', filename: 'products.csv', contentType, content }]);
}
