/**
 * The error a call throws (sync or async), for assertions on its fields. Fails the test when the
 * call succeeds, so an expected error can never pass unnoticed.
 */
export function errorOf<E = any>(fn: () => unknown): E;
export function errorOf<E = any>(promise: PromiseLike<unknown>): Promise<E>;
export function errorOf<E = any>(target: (() => unknown) | PromiseLike<unknown>): E | Promise<E> {
  if (typeof target === 'function') {
    try {
      target();
    } catch (err) {
      return err as E;
    }
    throw new Error('expected an error, but the call succeeded');
  }
  return Promise.resolve(target).then(
    () => {
      throw new Error('expected an error, but the promise resolved');
    },
    (err) => err as E,
  );
}
