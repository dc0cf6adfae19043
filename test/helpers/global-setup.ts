// Placeholder until the stack script lands: integration tests need the real stack.
export default function globalSetup(): void {}
