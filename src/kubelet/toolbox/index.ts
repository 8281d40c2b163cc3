/**
 * The toolbox: what runs inside an emulated pod's container for kubectl exec, attach and cp
 * (a small shell, curl, wget, nslookup, getent, env, tar, ...), over injected pod, resolver
 * and dialer.
 */
export { runToolbox, isToolboxCommand, toolboxCommands } from './toolbox.js'
export { DialError, type ToolboxContext, type ToolboxPod, type PodResolver, type PodDialer, type CommandIO } from './context.js'
export { MemoryFilesystem, FsError, defaultFilesystemBytes } from './memory-filesystem.js'
export { renderResolvConf, renderHostsFile, type HostsFilePod } from './pod-files.js'
export { containerEnvironment, serviceEnvVars, servicesForPod, envVariableName } from './service-env.js'
