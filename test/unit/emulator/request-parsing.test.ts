import { describe, expect, it } from 'vitest';
import { parseMultipartForm } from '../../../src/emulator/multipart-form.js';
import { normalizeKeys } from '../../../src/emulator/normalize-request.js';

describe('normalizeKeys', () => {
  it('camelCases keys recursively but leaves free-form values and text alone', () => {
    expect(
      normalizeKeys({
        generation_config: { image_config: { aspect_ratio: '1:1' }, response_json_schema: { my_field: 1 } },
        contents: [{ parts: [{ text: 'keep_snake_case here', inline_data: { mime_type: 'image/png' } }] }],
        tools: [{ function_declarations: [{ parameters: { some_arg: {} } }] }],
      }),
    ).toEqual({
      generationConfig: { imageConfig: { aspectRatio: '1:1' }, responseJsonSchema: { my_field: 1 } },
      contents: [{ parts: [{ text: 'keep_snake_case here', inlineData: { mimeType: 'image/png' } }] }],
      tools: [{ functionDeclarations: [{ parameters: { some_arg: {} } }] }],
    });
  });
});

describe('parseMultipartForm', () => {
  it('splits fields and files', () => {
    const body = Buffer.from(
      '--XyZ\r\nContent-Disposition: form-data; name="prompt"\r\n\r\nmake it red\r\n' +
        '--XyZ\r\nContent-Disposition: form-data; name="image[]"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n\u0001\u0002\r\n' +
        '--XyZ--\r\n',
      'latin1',
    );
    const parts = parseMultipartForm(body, 'multipart/form-data; boundary=XyZ');
    expect(parts?.map((part) => ({ ...part, data: part.data.toString('latin1') }))).toEqual([
      { name: 'prompt', data: 'make it red' },
      { name: 'image[]', filename: 'a.png', contentType: 'image/png', data: '\u0001\u0002' },
    ]);
    expect(parseMultipartForm(body, 'application/json')).toBeUndefined();
  });
});
