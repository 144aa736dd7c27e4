export function plainRun(program: string, timeoutMs: number): Promise<'pass' | 'timeout' | 'compile_error' | 'wrong_answer' | 'memory_limit' | 'runtime_error'>;
