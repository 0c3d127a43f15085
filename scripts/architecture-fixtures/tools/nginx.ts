export const nginx = 'a local tool';
