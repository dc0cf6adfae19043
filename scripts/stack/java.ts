/**
 * The Java runtime both services use: $JAVA_HOME when set, else the `java` on the PATH.
 * Elasticsearch's Maven distribution ships no JDK, so ES_JAVA_HOME must name this one.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface JavaRuntime {
  /** Absolute path of the java binary. */
  readonly bin: string;
  /** The JDK/JRE home (bin/java's grandparent), for ES_JAVA_HOME. */
  readonly home: string;
}

function findOnPath(name: string, pathVar: string): string | undefined {
  for (const dir of pathVar.split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

export function findJava(env: NodeJS.ProcessEnv = process.env): JavaRuntime {
  const javaHome = env.JAVA_HOME;
  const fromHome = javaHome !== undefined && javaHome !== '' ? path.join(javaHome, 'bin', 'java') : undefined;
  const candidate = fromHome !== undefined && fs.existsSync(fromHome) ? fromHome : findOnPath('java', env.PATH ?? '');
  if (candidate === undefined) {
    throw new Error('no java found (neither $JAVA_HOME/bin/java nor java on the PATH); the local stack needs Java 17 or newer');
  }
  // /usr/bin/java is usually a chain of symlinks into the JDK's own bin/.
  const bin = fs.realpathSync(candidate);
  return { bin, home: path.dirname(path.dirname(bin)) };
}
