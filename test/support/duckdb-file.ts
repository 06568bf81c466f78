// A DuckDB file opened for a test's reads, with an instance of its own, and closed after: the
// exporter or destination must have let go of it (DuckDB lets one process open a file it writes).
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';

export async function withDuckDb<T>(path: string, use: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
  const instance = await DuckDBInstance.create(path);
  try {
    const connection = await instance.connect();
    try {
      return await use(connection);
    } finally {
      connection.closeSync();
    }
  } finally {
    instance.closeSync();
  }
}
