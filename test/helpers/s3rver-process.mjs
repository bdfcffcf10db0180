// Runs s3rver in its own node process, for test runners that did not start node with
// --openssl-legacy-provider (see start-s3.ts). Usage: node --openssl-legacy-provider
// s3rver-process.mjs <directory> <bucket>. Prints {"port":N} on one line once listening; stops on SIGTERM.
import S3rver from 's3rver';

const [directory, bucket] = process.argv.slice(2);
const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory,
  configureBuckets: [{ name: bucket, configs: [] }],
});
const address = await server.run();
process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);
const stop = () => {
  server.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
// The parent owns our lifetime: if it goes away (stdin closes), stop too.
process.stdin.resume();
process.stdin.once('end', stop);
