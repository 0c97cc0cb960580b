/** What a promise settles to, as an error code: 'OK' when it resolves, else the error's `code` (or the error as text). */
export const codeOf = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
    return 'OK';
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
};
