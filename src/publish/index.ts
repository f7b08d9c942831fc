export * from './init.js'
export * from './propose.js'
export * from './publish.js'
export * from './merge.js'
