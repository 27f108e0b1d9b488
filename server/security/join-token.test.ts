import { describe, expect, it } from 'vitest';
import { takeJoinToken } from '../../client/src/join-token';

describe('join token in the URL', () => {
  it('reads #token= and strips it, keeping other parameters', () => {
    expect(takeJoinToken('http://h/?backend=wasm#token=fj_abc&x=1')).toEqual({
      token: 'fj_abc',
      cleanUrl: '/?backend=wasm#x=1',
    });
  });
  it('still reads a legacy ?token= but removes it from the address (and so from history)', () => {
    expect(takeJoinToken('http://h/?backend=wasm&token=fj_old&join=1')).toEqual({
      token: 'fj_old',
      cleanUrl: '/?backend=wasm&join=1',
    });
  });
  it('leaves a URL without a token alone', () => {
    expect(takeJoinToken('http://h/?backend=wasm')).toEqual({});
  });
});
