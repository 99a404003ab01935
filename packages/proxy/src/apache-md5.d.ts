// apache-md5 ships its declaration at src/apache-md5.d.ts without pointing "types" at it.
declare module 'apache-md5' {
  export default function aprMd5(password: string, salt?: string): string;
}
