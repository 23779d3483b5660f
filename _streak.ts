// Copyright 2026 the @locks/process-lock authors. MIT license.
// Streaks: how long a process may keep a lock by re-acquiring it at once.

/**
 * A process may keep a lock this long (in ms) by re-acquiring it at once
 * before it checks whether another process waits, and then gives it up.
 */
export const STREAK_MS = 5;
