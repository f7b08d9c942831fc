export * from './repo.js'
export * from './tree.js'
export * from './diff.js'
export * from './lock.js'
