// Bad input: each case gets a clear error of the right class, naming the
// path or the option, and leaves nothing held or open (the resource
// sanitizer is on for every test).
import assert from "node:assert/strict";
import {
  InterProcessLock,
  interprocessLocked,
  InterProcessReaderWriterLock,
  interprocessReadLocked,
  interprocessWriteLocked,
} from "../mod.ts";
import { fixture, run, tempDir } from "./_helpers.ts";

const IS_ROOT = Deno.uid() === 0;

Deno.test("bad paths throw TypeError at construction", () => {
  const cases: [unknown, RegExp][] = [
    ["", /must not be empty/],
    ["/tmp/a\0b.lock", /NUL byte/],
    [42, /string or a file: URL, got a number/],
    [undefined, /string or a file: URL, got undefined/],
    [null, /got null/],
    [{ path: "/tmp/x" }, /got an instance of Object/],
    [
      new URL("https://example.com/x.lock"),
      /must be a file: URL, got a https: URL/,
    ],
  ];
  for (const [path, message] of cases) {
    for (
      const make of [
        () => new InterProcessLock(path as string),
        () => new InterProcessReaderWriterLock(path as string),
        () => interprocessLocked(path as string),
        () => interprocessReadLocked(path as string),
        () => interprocessWriteLocked(path as string),
      ]
    ) {
      assert.throws(
        make,
        (e: Error) => e instanceof TypeError && message.test(e.message),
        String(path),
      );
    }
  }
});

Deno.test("bad acquire options throw TypeError or RangeError naming the option", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/a.lock`;
  const cases: [unknown, ErrorConstructor, RegExp][] = [
    [
      { delay: -1 },
      RangeError,
      /"delay" must be a finite number of milliseconds >= 0, got -1/,
    ],
    [{ delay: NaN }, RangeError, /"delay" .* got NaN/],
    [{ delay: Infinity }, RangeError, /"delay" .* got Infinity/],
    [{ maxDelay: -5 }, RangeError, /"maxDelay"/],
    [{ maxDelay: NaN }, RangeError, /"maxDelay"/],
    [{ maxDelay: Infinity }, RangeError, /"maxDelay"/],
    [{ timeout: -1 }, RangeError, /"timeout" .* got -1/],
    [{ timeout: NaN }, RangeError, /"timeout"/],
    [{ timeout: Infinity }, RangeError, /"timeout" .*omit it/],
    [
      { delay: "10" },
      TypeError,
      /"delay" must be a number of milliseconds, got a string/,
    ],
    [{ timeout: null }, TypeError, /"timeout" must be a number/],
    [{ blocking: "no" }, TypeError, /"blocking" must be a boolean/],
    [{ signal: {} }, TypeError, /"signal" must be an AbortSignal/],
    ["fast", TypeError, /Acquire options must be an object/],
    [null, TypeError, /Acquire options must be an object/],
  ];
  const lock = new InterProcessLock(path);
  const rw = new InterProcessReaderWriterLock(path);
  for (const [options, Class, message] of cases) {
    const check = (e: Error) => e instanceof Class && message.test(e.message);
    await assert.rejects(
      lock.acquire(options as never),
      check,
      JSON.stringify(options),
    );
    await assert.rejects(rw.acquireReadLock(options as never), check);
    await assert.rejects(rw.acquireWriteLock(options as never), check);
    await assert.rejects(rw.readLock(options as never), check);
    await assert.rejects(rw.writeLock(options as never), check);
    if (options !== null && typeof options === "object") {
      assert.throws(() => interprocessLocked(path, options as never), check);
    }
    assert.equal(lock.acquired, false);
  }
  // Nothing was left held.
  assert.equal(await lock.acquire({ blocking: false }), true);
  lock.release();
});

Deno.test("bad lock options throw TypeError", () => {
  assert.throws(
    () => new InterProcessLock("/tmp/x.lock", { sleep: 5 } as never),
    (e: Error) =>
      e instanceof TypeError && /"sleep" must be a function/.test(e.message),
  );
  assert.throws(
    () => new InterProcessLock("/tmp/x.lock", { logger: {} } as never),
    (e: Error) =>
      e instanceof TypeError &&
      /"logger" must have a debug\(\) method/.test(e.message),
  );
  assert.throws(
    () => new InterProcessLock("/tmp/x.lock", { anyFile: 1 } as never),
    (e: Error) =>
      e instanceof TypeError && /"anyFile" must be a boolean/.test(e.message),
  );
  assert.throws(
    () => new InterProcessLock("/tmp/x.lock", "x" as never),
    TypeError,
  );
  assert.throws(
    () => interprocessLocked("/tmp/x.lock", { logger: 1 } as never),
    TypeError,
  );
});

Deno.test("a path that is a directory: Deno.errors.IsADirectory naming the path", async () => {
  await using dir = await tempDir();
  for (
    const lock of [
      new InterProcessLock(dir.path),
      new InterProcessReaderWriterLock(dir.path),
    ]
  ) {
    const acquire = lock instanceof InterProcessLock
      ? lock.acquire()
      : lock.acquireWriteLock();
    await assert.rejects(acquire, (e: Error) => {
      assert.ok(e instanceof Deno.errors.IsADirectory, e.name);
      assert.equal(
        e.message,
        `Cannot open lock file "${dir.path}": it is a directory`,
      );
      return true;
    });
  }
});

Deno.test("a parent that is a file: Deno.errors.NotADirectory naming the path", async () => {
  await using dir = await tempDir();
  Deno.writeTextFileSync(`${dir.path}/file`, "x");
  const path = `${dir.path}/file/a.lock`;
  await assert.rejects(new InterProcessLock(path).acquire(), (e: Error) => {
    assert.ok(e instanceof Deno.errors.NotADirectory, e.name);
    assert.ok(e.message.includes(path), e.message);
    assert.match(e.message, /is a file, not a directory/);
    return true;
  });
  const deeper = `${dir.path}/file/sub/a.lock`;
  await assert.rejects(new InterProcessLock(deeper).acquire(), (e: Error) => {
    assert.ok(e.message.includes(deeper), e.message);
    return true;
  });
  assert.equal(Deno.readTextFileSync(`${dir.path}/file`), "x");
});

Deno.test({
  name: "a lock path that is a dangling symlink is refused",
  ignore: Deno.build.os === "windows",
}, async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/link.lock`;
  Deno.symlinkSync(`${dir.path}/missing-target`, path);
  await assert.rejects(new InterProcessLock(path).acquire(), (e: Error) => {
    assert.ok(e instanceof Deno.errors.NotFound, e.name);
    assert.match(e.message, /symbolic link to a file that does not exist/);
    assert.ok(e.message.includes(path));
    return true;
  });
  assert.throws(
    () => Deno.statSync(`${dir.path}/missing-target`),
    Deno.errors.NotFound,
  );
});

Deno.test({
  name: "a read-only directory: an error naming the path, nothing created",
  ignore: IS_ROOT, // root writes anywhere; the read-only mount case below covers root
  async fn() {
    await using dir = await tempDir();
    Deno.mkdirSync(`${dir.path}/ro`);
    Deno.chmodSync(`${dir.path}/ro`, 0o555);
    const path = `${dir.path}/ro/a.lock`;
    await assert.rejects(new InterProcessLock(path).acquire(), (e: Error) => {
      assert.ok(e instanceof Deno.errors.PermissionDenied, e.name);
      assert.ok(e.message.includes(path));
      return true;
    });
    Deno.chmodSync(`${dir.path}/ro`, 0o755);
  },
});

const CAN_MOUNT = Deno.build.os === "linux" && IS_ROOT &&
  (await run("unshare", ["-m", "true"]).then((r) => r.code === 0, () => false));

Deno.test({
  name: "a directory on a read-only mount: an error naming the path (as root)",
  ignore: !CAN_MOUNT,
  async fn() {
    await using dir = await tempDir();
    const ro = `${dir.path}/ro`;
    Deno.mkdirSync(ro);
    const script =
      new URL("./fixtures/no_permission.ts", import.meta.url).pathname;
    for (const kind of ["lock", "read"]) {
      const { code, stdout, stderr } = await run("unshare", [
        "-m",
        "sh",
        "-c",
        `mount -t tmpfs -o ro tmpfs "$1" && exec "$2" run --quiet --allow-read --allow-write "$3" "$4" "$1/sub/a.lock"`,
        "sh",
        ro,
        Deno.execPath(),
        script,
        kind,
      ]);
      assert.equal(code, 0, stderr);
      assert.match(
        stdout,
        new RegExp(
          `^\\w+: Cannot (open|create the directory) ".*${ro}/sub".* lock file ".*${ro}/sub/a.lock"`,
        ),
        stdout,
      );
      assert.match(stdout, /[Rr]ead-only file system/, stdout);
    }
  },
});

Deno.test({
  name:
    "a directory that cannot be created (under /proc) gives an error naming the path",
  ignore: Deno.build.os !== "linux",
  async fn() {
    // /proc refuses new files even for root.
    const path = "/proc/process-lock-test/a.lock";
    await assert.rejects(new InterProcessLock(path).acquire(), (e: Error) => {
      assert.match(e.message, /^Cannot (open|create the directory)/);
      assert.ok(e.message.includes(`lock file "${path}"`), e.message);
      return true;
    });
  },
});

Deno.test("release twice, and a read lock released as a write lock, throw naming the path", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/rw.lock`;
  const rw = new InterProcessReaderWriterLock(path);
  assert.throws(
    () => rw.releaseReadLock(),
    /Cannot release a read lock on ".*rw\.lock": it is not held/,
  );
  assert.throws(
    () => rw.releaseWriteLock(),
    /Cannot release the write lock on ".*rw\.lock": it is not held/,
  );
  await rw.acquireReadLock();
  assert.throws(
    () => rw.releaseWriteLock(),
    /a read lock is: use releaseReadLock\(\)/,
  );
  assert.equal(rw.readers, 1);
  rw.releaseReadLock();
  assert.throws(() => rw.releaseReadLock(), /not held/);
  await rw.acquireWriteLock();
  assert.throws(
    () => rw.releaseReadLock(),
    /the write lock is: use releaseWriteLock\(\)/,
  );
  rw.releaseWriteLock();
  assert.throws(() => rw.releaseWriteLock(), /not held/);
});

Deno.test("acquire after dispose throws, for the reader-writer lock too", async () => {
  await using dir = await tempDir();
  const rw = new InterProcessReaderWriterLock(`${dir.path}/rw.lock`);
  await rw.acquireReadLock();
  rw[Symbol.dispose]();
  assert.equal(rw.readers, 0);
  await assert.rejects(rw.acquireReadLock(), /the lock object was disposed/);
  await assert.rejects(rw.writeLock(), /the lock object was disposed/);
});

for (
  const [missing, flags] of [
    ["--allow-write", ["--allow-read"]],
    ["--allow-read", ["--allow-write"]],
  ] as const
) {
  Deno.test(`a missing ${missing} gives an error that names the flag`, async () => {
    await using dir = await tempDir();
    const path = `${dir.path}/a.lock`;
    for (const kind of ["lock", "read"]) {
      await using child = fixture("no_permission.ts", [kind, path], {
        permissions: [...flags],
      });
      const { rest } = await child.end();
      assert.equal(rest.length, 1, rest.join("\n"));
      assert.match(rest[0], /^NotCapable: Cannot open lock file ".*a\.lock"/);
      assert.match(rest[0], /--allow-read and --allow-write/);
      assert.match(rest[0], new RegExp(`run again with the ${missing} flag`));
    }
  });
}

Deno.test({
  name:
    "a lock path that is a symbolic link loop gives an error naming the path",
  ignore: Deno.build.os === "windows",
  async fn() {
    await using dir = await tempDir();
    const path = `${dir.path}/loop.lock`;
    Deno.symlinkSync(`${dir.path}/other.lock`, path);
    Deno.symlinkSync(path, `${dir.path}/other.lock`);
    await assert.rejects(new InterProcessLock(path).acquire(), (e: Error) => {
      assert.ok(e instanceof Deno.errors.FilesystemLoop, e.name);
      assert.ok(
        e.message.startsWith(`Cannot open lock file "${path}"`),
        e.message,
      );
      return true;
    });
  },
});

Deno.test("an unknown option key throws a TypeError naming it and the closest known key, for every options object", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/a.lock`;
  const expect = (key: string, closest: string) => (error: Error) => {
    assert.ok(error instanceof TypeError, error.name);
    assert.ok(
      error.message.includes(
        `Unknown option "${key}"`,
      ) && error.message.includes(`did you mean "${closest}"?`),
      error.message,
    );
    return true;
  };
  const lock = new InterProcessLock(path);
  // Plain JavaScript (or an any-typed bag) gets past the types.
  const bag = (value: Record<string, unknown>) => value as never;
  await assert.rejects(
    lock.acquire(bag({ tiemout: 10 })),
    expect("tiemout", "timeout"),
  );
  await assert.rejects(
    lock.acquire(bag({ maxdelay: 10 })),
    expect("maxdelay", "maxDelay"),
  );
  const rw = new InterProcessReaderWriterLock(path);
  await assert.rejects(
    rw.acquireReadLock(bag({ blockng: false })),
    expect("blockng", "blocking"),
  );
  assert.throws(
    () => new InterProcessLock(path, bag({ loger: console })),
    expect("loger", "logger"),
  );
  assert.throws(
    () => interprocessLocked(path, bag({ timout: 1 })),
    expect("timout", "timeout"),
  );
  assert.throws(
    () => interprocessWriteLocked(path, bag({ slep: 1 })),
    expect("slep", "sleep"),
  );
  // The PostgreSQL options: see pg_test.ts.
  // Nothing close: the known keys are listed.
  assert.throws(
    () => new InterProcessLock(path, bag({ colour: "red" })),
    /^TypeError: Unknown option "colour" \(known options: sleep, logger, anyFile\)$/,
  );
  // An acquire option given to a constructor: where it belongs.
  assert.throws(
    () => new InterProcessLock(path, bag({ timeout: 1 })),
    /^TypeError: Unknown option "timeout" \("timeout" is an option of each acquire call, not of the lock\)$/,
  );
  assert.throws(
    () => new InterProcessLock(path, bag({ timout: 1 })),
    /\(did you mean "timeout"\? "timeout" is an option of each acquire call/,
  );
  assert.equal(lock.acquired, false);
});
