"""Every LSM hook of Linux 6.1, 6.12 and 6.18, one line each: hooks.py reads it.

Complete mediation (docs/security.md, "Every LSM hook"): the kernel's own
list of hooks (a BPF stub `bpf_lsm_<hook>` in its BTF for each) is the
checklist, and a hook this table does not name is a door nobody judged
(`bpfsystrace check --hooks` prints it UNCLASSIFIED and exits 1). Columns:
the hook, its class, then

  DECIDED         the operation(s) our program decides there, on which object
  HARMLESS        why a confined task, root or not, cannot use it to reach an
                  object, another process or the kernel outside its policy
  NOT_ATTACHABLE  why no BPF program can decide it (the kernel refuses one, or
                  it returns void/bool where that matters)
  OPEN            "native-CALL: road": not decided today although a confined
                  task can use it; CALL is the name a future rule would use

"(6.12+)" marks a hook 6.1 lacks, "(6.1)" one 6.12 dropped, "(after 6.12)" one
only newer kernels have; the table serves every kernel (check --hooks leaves
out what the running kernel lacks). The disabled hooks (NOT_ATTACHABLE) are
the bpf_lsm_disabled_hooks sets in the .BTF_ids of Debian's 6.1.0-57 and
6.12.118 vmlinux.
"""

TABLE = """
# ---- files: opens, paths, names (decided on the resolved path) ----
file_open                   DECIDED         fsread/fswrite on the resolved path (d_path); execve on the binary opened by an execve, fsread of its interpreter under the new policy
path_unlink                 DECIDED         unlink on the resolved path; never one of bpfsystrace's pins
path_mkdir                  DECIDED         mkdir on the resolved path
path_rmdir                  DECIDED         rmdir on the resolved path; never a pin directory
path_mknod                  DECIDED         mknod on the resolved path; a regular file (open O_CREAT) as fswrite; a socket inode as bind(2) to that path
path_truncate               DECIDED         truncate on the resolved path: truncate(2); on 6.1 also ftruncate(2) and open(O_TRUNC) (6.2+: file_truncate, DECIDED)
path_symlink                DECIDED         symlink on the new link's resolved path
path_chmod                  DECIDED         chmod (chmod, fchmod, fchmodat) on the resolved path; never a pin
path_chown                  DECIDED         chown (chown, fchown, lchown, fchownat) on the resolved path; never a pin
path_chroot                 DECIDED         chroot on the resolved path
path_link                   DECIDED         link on "existing path\\0new path"; never a pin
path_rename                 DECIDED         rename on "old path\\0new path" (both directions for RENAME_EXCHANGE); never a pin
path_post_mknod             HARMLESS        void, after path_mknod decided the creation (6.12+)
inode_getattr               DECIDED         stat on the resolved path: stat, lstat, newfstatat, statx by name (x86-64), fstat of an O_PATH descriptor, io_uring STATX
file_truncate               DECIDED         truncate on the file's path: ftruncate(2) and open(O_TRUNC) on Linux 6.2+, which call it instead of path_truncate (6.12+)
# ---- files: decided by the open or path hook above ----
inode_create                HARMLESS        the creation of a regular file, decided at path_mknod (fswrite) on the same name
inode_link                  HARMLESS        the inode half of link(2), decided at path_link
inode_unlink                HARMLESS        the inode half of unlink(2), decided at path_unlink
inode_symlink               HARMLESS        the inode half of symlink(2), decided at path_symlink
inode_mkdir                 HARMLESS        the inode half of mkdir(2), decided at path_mkdir
inode_rmdir                 HARMLESS        the inode half of rmdir(2), decided at path_rmdir
inode_mknod                 HARMLESS        the inode half of mknod(2), decided at path_mknod
inode_rename                HARMLESS        the inode half of rename(2), decided at path_rename
inode_follow_link           HARMLESS        following a symlink during a lookup: the operation is decided on the resolved path
file_permission             HARMLESS        each read/write of a descriptor whose open was decided (docs/security.md, Known limits: Descriptors)
file_post_open              HARMLESS        after file_open decided the open (6.12+)
file_receive                HARMLESS        a descriptor another process chose to send over a socket whose connect was decided (Known limits: Descriptors)
file_lock                   HARMLESS        advisory locks and leases on a file whose open was decided; they delay only programs that lock that file (a lease needs ownership or CAP_LEASE: capable)
file_mprotect               HARMLESS        the protection of the task's own memory: no object or process outside it
mmap_file                   HARMLESS        maps a descriptor whose open was decided; code a task may read it may already run (as under systrace)
mmap_backing_file           HARMLESS        overlayfs/FUSE mapping the file behind one the task mapped (6.12+)
file_alloc_security         HARMLESS        bookkeeping: the LSM blob of a new file
file_free_security          HARMLESS        bookkeeping: frees a file's LSM blob
file_release                HARMLESS        void; the last close of a file (6.12+)
backing_file_alloc          HARMLESS        bookkeeping: overlayfs/FUSE backing files (6.12+)
backing_file_free           HARMLESS        bookkeeping: frees a backing file's blob (6.12+)
# ---- files: attributes, extended attributes, notification ----
inode_setattr               DECIDED         utimes (utimes, utimensat, futimens, utime) on "": a change of the times alone (chmod, chown and truncate are decided at their path hooks); the hook has no mount to render a path; the kernel's own under credentials of its own (overlayfs copy-up) pass
inode_post_setattr          HARMLESS        void, after inode_setattr (6.12+)
inode_permission            OPEN            native-access: access(2)/faccessat2 and chdir(2) probe any file by name without a decided stat; the hook sees an inode, not a path
inode_readlink              OPEN            native-readlink: readlink(2) reads any symlink's text by name; the hook has a dentry and no mount to render a path
inode_getxattr              DECIDED         getxattr (getxattr, lgetxattr, fgetxattr; POSIX ACLs on 6.1) on "": the hook has no mount to render a path; the kernel's own reads under credentials of its own (overlayfs) pass
inode_listxattr             DECIDED         listxattr (listxattr, llistxattr, flistxattr) on "", as inode_getxattr
inode_get_acl               DECIDED         getxattr on "": a POSIX ACL read (6.2+; on 6.1 through inode_getxattr) (6.12+)
inode_setxattr              DECIDED         setxattr (setxattr, lsetxattr, fsetxattr; POSIX ACLs on 6.1) on "": the hook has no mount to render a path; the kernel's own writes under credentials of its own (overlayfs copy-up) pass
inode_post_setxattr         HARMLESS        void, after inode_setxattr
inode_set_acl               DECIDED         setxattr on "": a POSIX ACL set (6.2+; on 6.1 through inode_setxattr) (6.12+)
inode_post_set_acl          HARMLESS        void, after inode_set_acl (6.12+)
inode_removexattr           DECIDED         removexattr (removexattr, lremovexattr, fremovexattr; POSIX ACLs on 6.1) on "", as inode_setxattr
inode_post_removexattr      HARMLESS        void, after inode_removexattr (6.12+)
inode_remove_acl            DECIDED         removexattr on "": a POSIX ACL removed (6.2+; on 6.1 through inode_removexattr) (6.12+)
inode_post_remove_acl       HARMLESS        void, after inode_remove_acl (6.12+)
inode_file_getattr          OPEN            native-file_getattr: file_getattr(2) (after 6.12) and FS_IOC_FSGETXATTR read inode flags and project ids by name
inode_file_setattr          OPEN            native-file_setattr: file_setattr(2) (after 6.12) and FS_IOC_FSSETXATTR change inode flags and project ids by name
inode_setsecurity           HARMLESS        an LSM's own half of a security.* xattr write, reached only through inode_setxattr (DECIDED)
inode_killpriv              HARMLESS        the kernel clears setuid bits and file capabilities on a write: it only removes privilege
inode_need_killpriv         NOT_ATTACHABLE  the kernel refuses BPF programs here (6.1 and 6.12 bpf_lsm_disabled_hooks)
inode_getsecurity           NOT_ATTACHABLE  the kernel refuses BPF programs here (6.1 and 6.12 bpf_lsm_disabled_hooks)
inode_listsecurity          NOT_ATTACHABLE  the kernel refuses BPF programs here (6.1 and 6.12 bpf_lsm_disabled_hooks)
inode_copy_up_xattr         NOT_ATTACHABLE  the kernel refuses BPF programs here (6.1 and 6.12 bpf_lsm_disabled_hooks)
inode_xattr_skipcap         NOT_ATTACHABLE  its verifier range is 0/1 and 1 only waives a capability check: it cannot refuse (the xattr write is inode_setxattr, DECIDED) (6.12+)
path_notify                 DECIDED         inotify_add_watch (inotify_add_watch, fanotify_mark) on the watched path; dnotify (fcntl F_NOTIFY) is decided the same at file_fcntl
# ---- files: security labels and bookkeeping ----
inode_alloc_security        HARMLESS        bookkeeping: the LSM blob of a new inode
inode_free_security         HARMLESS        bookkeeping: frees an inode's LSM blob
inode_free_security_rcu     HARMLESS        bookkeeping: frees an inode's LSM blob after RCU (6.12+)
inode_init_security         HARMLESS        the label of a file being made by a decided create (path_mknod, path_mkdir, path_symlink)
inode_init_security_anon    DECIDED         userfaultfd on "" for "[userfaultfd]" (userfaultfd(2), /dev/userfaultfd); other kinds pass: io_uring's instance (its work is decided at the hooks of what it does), secretmem, KVM
inode_post_create_tmpfile   HARMLESS        void, after an O_TMPFILE open that file_open decided (6.12+)
inode_copy_up               HARMLESS        overlayfs copying a file up for an operation decided on its overlay path
inode_getsecid              HARMLESS        a label query for audit (BPF keeps no labels)
inode_getlsmprop            HARMLESS        a label query for audit (after 6.12; was inode_getsecid)
inode_getsecctx             HARMLESS        an LSM label for NFS/kernfs (BPF keeps none)
inode_setsecctx             HARMLESS        NFS/kernfs setting an LSM label (BPF keeps none)
inode_notifysecctx          HARMLESS        NFS/kernfs setting an LSM label (BPF keeps none)
inode_invalidate_secctx     HARMLESS        void; drops a cached NFS label
inode_setintegrity          HARMLESS        integrity data the kernel records (fs-verity, dm-verity) for IPE (6.12+)
dentry_init_security        HARMLESS        the label of a new dentry for NFS (BPF keeps none)
dentry_create_files_as      HARMLESS        overlayfs's credentials for a file it creates in its upper layer after a decided operation
d_instantiate               HARMLESS        void; a dentry gets its inode
kernfs_init_security        HARMLESS        the label of a new kernfs node (cgroupfs, sysfs), made by a decided mkdir or by the kernel
ismaclabel                  NOT_ATTACHABLE  the kernel refuses BPF programs here (6.1 and 6.12 bpf_lsm_disabled_hooks)
secid_to_secctx             HARMLESS        label conversion for audit and netfilter (BPF keeps no labels)
lsmprop_to_secctx           HARMLESS        label conversion for audit and netfilter (after 6.12)
secctx_to_secid             HARMLESS        label conversion for audit and netfilter
release_secctx              HARMLESS        void; frees a label string
# ---- mounts and super blocks ----
sb_mount                    DECIDED         mount on "mount point\\0fstype", or \\0bind, \\0remount, \\0move, \\0propagation for mounts that make no new file system
move_mount                  DECIDED         mount on "to\\0move": move_mount(2), the new mount API's last step
sb_umount                   DECIDED         umount on the mount point; never the bpffs of bpfsystrace's pins
sb_pivotroot                DECIDED         pivot_root on the new root
sb_remount                  HARMLESS        a remount decided at sb_mount (remount) or, by fspick/fsconfig, at capable (mount)
sb_kern_mount               HARMLESS        a new super block of a mount decided at sb_mount or at capable (the new mount API: mount), or the kernel's own
sb_statfs                   HARMLESS        statfs(2): a file system's totals and type, nothing of a file or a process
sb_show_options             HARMLESS        an LSM's mount options shown in /proc/PID/mountinfo
sb_alloc_security           HARMLESS        bookkeeping: the LSM blob of a new super block
sb_free_security            HARMLESS        bookkeeping: frees a super block's LSM blob
sb_delete                   HARMLESS        void; a super block goes away
sb_eat_lsm_opts             HARMLESS        parses an LSM's mount options of a mount decided at sb_mount
sb_mnt_opts_compat          HARMLESS        compares an LSM's mount options on a remount decided at sb_mount
sb_set_mnt_opts             HARMLESS        applies an LSM's mount options of a decided mount
sb_clone_mnt_opts           HARMLESS        NFS copying an LSM's mount options to a submount
sb_free_mnt_opts            HARMLESS        void; frees parsed mount options
fs_context_dup              HARMLESS        copies an LSM's options of a mount context (submounts)
fs_context_parse_param      HARMLESS        one mount option of a mount decided at sb_mount or at capable (fsconfig: mount)
fs_context_submount         HARMLESS        the kernel's automount of a tree the task reached (NFS referrals, tracefs)
quotactl                    HARMLESS        every change, and another user's quota, needs CAP_SYS_ADMIN, which capable decides
quota_on                    HARMLESS        turning quotas on needs CAP_SYS_ADMIN, which capable decides
# ---- exec, fork, credentials ----
bprm_check_security         DECIDED         execve: arms the decision of the interpreter's open under the binary's policy (the execve itself is decided at file_open)
bprm_committed_creds        DECIDED         execve: puts the exec's binding in force (the new executable, permit[inherit], permit[detach]); void, decides nothing
cred_prepare                DECIDED         execve bookkeeping: disarms the state of an execve that failed after bprm_check_security (decides nothing)
task_alloc                  DECIDED         fork, clone, clone3, threads, io workers: the child is confined as its parent; clone3(CLONE_INTO_CGROUP) is denied
bprm_creds_for_exec         HARMLESS        an execve decided at the binary's open (file_open)
bprm_creds_from_file        HARMLESS        the setuid/setgid bits and file capabilities of a binary whose execve was decided; the task stays confined
bprm_committing_creds       HARMLESS        void; an execve decided at file_open, before its new credentials
task_fix_setuid             DECIDED         setuid on each user id the call gives the task (setuid, setreuid, setresuid, setfsuid), in decimal
task_fix_setgid             DECIDED         setgid on each group id the call gives the task, in decimal
task_fix_setgroups          DECIDED         setgroups on each group id of the new list, "" for an empty list (6.0+)
userns_create               DECIDED         unshare on "": a new user namespace (unshare, clone; 6.1+)
capable                     DECIDED         every capability check of the task's own credentials: the call's own operation for calls with no hook (sethostname, reboot, swapon, iopl, settimeofday, kexec, setns, unshare, the new mount API), else capable on the capability's name
capget                      HARMLESS        reads a process's capability sets, as /proc/PID/status shows
capset                      HARMLESS        a task can only lower or rearrange its own capabilities within its permitted set; their use is decided by capable
cred_alloc_blank            HARMLESS        bookkeeping: a blank credential (keyctl session to parent)
cred_free                   HARMLESS        void; frees credentials
cred_transfer               HARMLESS        KEYCTL_SESSION_TO_PARENT's copy of credentials; its door is keyctl (key_permission, DECIDED)
cred_getsecid               HARMLESS        void; a label query for audit
cred_getlsmprop             HARMLESS        a label query for audit (after 6.12)
current_getsecid_subj       HARMLESS        void; a label query for audit
current_getlsmprop_subj     HARMLESS        a label query for audit (after 6.12)
kernel_act_as               HARMLESS        credentials the kernel (cachefiles, nfsd) puts in place for its own work
kernel_create_files_as      HARMLESS        credentials the kernel (cachefiles) creates files with for its own work
setprocattr                 NOT_ATTACHABLE  the kernel refuses BPF programs here (6.1 and 6.12 bpf_lsm_disabled_hooks); /proc/PID/attr writes are fswrite anyway
getprocattr                 NOT_ATTACHABLE  the kernel refuses BPF programs here (6.1 and 6.12 bpf_lsm_disabled_hooks)
getselfattr                 NOT_ATTACHABLE  the kernel refuses BPF programs here (6.12 bpf_lsm_disabled_hooks)
setselfattr                 HARMLESS        lsm_set_self_attr(2) sets the task's own label in another LSM (AppArmor, SELinux), which grants nothing that LSM does not (6.12+)
# ---- other processes ----
ptrace_access_check         DECIDED         ptrace on the other process's executable: PTRACE_ATTACH, process_vm_readv/writev, pidfd_getfd, kcmp, /proc/PID/mem and the like, migrate_pages/move_pages
ptrace_traceme              DECIDED         ptrace on the parent's executable (PTRACE_TRACEME)
task_kill                   DECIDED         kill on "target's executable\\0signal name" (kill, tkill, tgkill, sigqueue, pidfd_send_signal); not the kernel's own signals nor those to its own threads
task_prctl                  DECIDED         prctl on the option's name (PR_SET_MM, PR_SET_PTRACER ...)
task_setnice                DECIDED         setpriority on the other process's executable (pidname); the task's own process passes; lowering nice also asks CAP_SYS_NICE of capable
task_setioprio              DECIDED         ioprio_set on the other process's executable (pidname); the task's own process passes
task_setscheduler           DECIDED         sched_setscheduler (sched_setscheduler, sched_setparam, sched_setattr, sched_setaffinity) on the other process's executable; the task's own process passes
task_prlimit                DECIDED         prlimit (prlimit64 of another process: the kernel asks only then) on "": the hook sees the other's credentials, not the task; the task's own threads pass
task_setrlimit              HARMLESS        the new limit: the task's own (raising a hard limit asks CAP_SYS_RESOURCE of capable), or another process's, decided first at task_prlimit
task_movememory             HARMLESS        migrate_pages/move_pages of another process pass ptrace_access_check first, which decides ptrace
task_setpgid                HARMLESS        setpgid(2) reaches only the task itself and its own children, which are confined
task_getpgid                HARMLESS        reads another process's process group, as /proc/PID/stat shows
task_getsid                 HARMLESS        reads another process's session, as /proc/PID/stat shows
task_getscheduler           HARMLESS        reads another process's scheduling policy, as /proc/PID/sched shows
task_getioprio              HARMLESS        reads another process's I/O priority
task_getsecid_obj           HARMLESS        void; a label query for audit
task_getlsmprop_obj         HARMLESS        a label query for audit (after 6.12)
task_to_inode               HARMLESS        void; the label of a /proc/PID inode
task_free                   HARMLESS        void; a task goes away
file_fcntl                  DECIDED         fcntl on the command: F_SETOWN to another process or a group, F_SETOWN_EX, F_SETSIG (SIGIO's target and signal, which task_kill never sees); F_NOTIFY as inotify_add_watch on the directory; leases and locks as file_lock
file_ioctl                  DECIDED         fcntl (ioctl rules too) on FIOSETOWN and SIOCSPGRP (F_SETOWN by ioctl) and TIOCSTI (input pushed into a terminal); every other ioctl passes: device commands are the device's (Known limits)
file_ioctl_compat           DECIDED         as file_ioctl, for a 32-bit process (Linux 6.8+, and Debian's 6.1 by a stable backport; before, through file_ioctl)
file_set_fowner             NOT_ATTACHABLE  void: F_SETOWN cannot be refused here; it is decided at file_fcntl and file_ioctl
file_send_sigiotask         HARMLESS        SIGIO to the owner a task chose with F_SETOWN/F_SETOWN_EX/FIOSETOWN/SIOCSPGRP and the signal of F_SETSIG, all decided at file_fcntl/file_ioctl (an owner set before the task was confined: Known limits)
# ---- the kernel: modules, kexec, BPF, perf, logs, lockdown ----
kernel_load_data            DECIDED         init_module on "" (a module from memory), kexec_load; firmware, IMA policies and certificates from memory are not decided
kernel_read_file            DECIDED         finit_module on the module file's path; kexec_file_load
kernel_module_request       DECIDED         init_module on "": a module autoloaded on the task's behalf (a socket family or protocol, a line discipline, a filesystem type, a crypto algorithm); the kernel goes on without it
kernel_post_load_data       HARMLESS        after kernel_load_data decided the load
kernel_post_read_file       HARMLESS        after kernel_read_file decided the read
bpf                         DECIDED         bpf on the command's name (BPF_MAP_CREATE ...); bpfsystrace's own links by identity (LINK_GET_FD_BY_ID, LINK_DETACH, LINK_UPDATE): denied
bpf_map                     DECIDED         bpf: a new descriptor of one of bpfsystrace's maps (by identity): denied; other maps were decided by the bpf command
bpf_prog                    DECIDED         bpf: a new descriptor of one of bpfsystrace's programs (by identity): denied; others were decided by the bpf command
bpf_map_create              HARMLESS        BPF_MAP_CREATE, decided at the bpf hook on the command (6.12+)
bpf_prog_load               HARMLESS        BPF_PROG_LOAD, decided at the bpf hook on the command (6.12+)
bpf_map_alloc_security      HARMLESS        bookkeeping: BPF_MAP_CREATE, decided at the bpf hook (6.1)
bpf_prog_alloc_security     HARMLESS        bookkeeping: BPF_PROG_LOAD, decided at the bpf hook (6.1)
bpf_map_free                HARMLESS        void; a map goes away (6.12+)
bpf_prog_free               HARMLESS        void; a program goes away (6.12+)
bpf_map_free_security       HARMLESS        void; a map goes away (6.1)
bpf_prog_free_security      HARMLESS        void; a program goes away (6.1)
bpf_token_create            HARMLESS        BPF_TOKEN_CREATE, decided at the bpf hook, from a delegating bpffs that a decided mount made (6.12+)
bpf_token_cmd               HARMLESS        a command a token delegates: the command is decided at the bpf hook (6.12+)
bpf_token_capable           HARMLESS        a token's capability: ns_capable asked the capable hook first (6.12+)
bpf_token_free              HARMLESS        void; a token goes away (6.12+)
perf_event_open             DECIDED         perf_event_open on ""
perf_event_alloc            HARMLESS        an event of a decided perf_event_open (or inherited by a confined child)
perf_event_free             HARMLESS        void; an event goes away (6.1)
perf_event_read             HARMLESS        reads an event whose perf_event_open was decided
perf_event_write            HARMLESS        changes an event whose perf_event_open was decided
locked_down                 HARMLESS        asks whether a kernel-integrity feature may be used (/dev/mem, kprobes, debugfs, bpf_probe_write_user ...); each is reached through an operation decided elsewhere (open, bpf, perf_event_open, iopl)
syslog                      DECIDED         syslog on "": syslog(2), /proc/kmsg's open, /dev/kmsg opened for reading (with dmesg_restrict=1 CAP_SYSLOG is asked of capable first; a syslog rule permits it)
settime                     HARMLESS        settimeofday, clock_settime, adjtimex: decided at their CAP_SYS_TIME check by capable (settimeofday rules)
vm_enough_memory            NOT_ATTACHABLE  the kernel refuses BPF programs here (6.1 and 6.12 bpf_lsm_disabled_hooks)
mmap_addr                   DECIDED         mmap on "" for a mapping below 64 KiB (the NULL page, a kernel-exploit aid; Debian's vm.mmap_min_addr), whose CAP_SYS_RAWIO check is commoncap's own; every other address returns at once
initramfs_populated         HARMLESS        void; boot time only (6.12+)
bdev_alloc_security         HARMLESS        bookkeeping: the LSM blob of a block device (6.12+)
bdev_free_security          HARMLESS        bookkeeping: frees a block device's blob (6.12+)
bdev_setintegrity           HARMLESS        integrity data device-mapper records (dm-verity) for IPE; a dm table needs CAP_SYS_ADMIN (capable) (6.12+)
# ---- io_uring ----
uring_override_creds        DECIDED         io_uring_register on "": a request that runs with a personality registered earlier (other credentials than the task's, which the capable and xattr hooks take for the kernel's)
uring_sqpoll                HARMLESS        the SQPOLL thread is the task's own io thread, confined like its workers (task_alloc)
uring_cmd                   DECIDED         fcntl (ioctl) on cmd "URING_CMD": io_uring's passthrough command, a driver's or (6.7+) a socket's own command, whatever it carries
uring_allowed               HARMLESS        io_uring_setup (after 6.12): its requests reach the hooks of the calls they stand for; the personality road is uring_override_creds (DECIDED)
# ---- sockets ----
socket_create               DECIDED         socket and socketpair on "domain\\0type\\0protocol" (AF_INET\\0SOCK_DGRAM\\0udp), before the family creates the socket; an inet protocol 0 as the kernel resolves it (tcp, udp, sctp); not the kernel's own sockets
socket_bind                 DECIDED         bind on the address (inet-[addr]:port, @abstract, "" for autobind); a unix path is decided at path_mknod
socket_connect              DECIDED         connect on the address; a unix peer is decided at unix_stream_connect or unix_may_send
socket_sendmsg              DECIDED         sendto (sendto, sendmsg, and connect rules) on an explicit destination address; a connected socket was decided at connect
socket_listen               DECIDED         listen on the socket's bound address
socket_accept               DECIDED         accept on the listening socket's bound address
unix_stream_connect         DECIDED         connect on the listening peer's bound path (resolved) or @name
unix_may_send               DECIDED         connect/sendto of a unix datagram on the peer's bound path (resolved) or @name
socket_socketpair           HARMLESS        socketpair, decided at socket_create for each of its two sockets (socket)
socket_post_create          DECIDED         socket again, when the protocol the family gave the socket is not the one socket_create named; a denied socket is released before it has a descriptor
socket_getsockname          HARMLESS        the task's own socket's address
socket_getpeername          HARMLESS        the peer of the task's own socket, whose connect or accept was decided
socket_getsockopt           HARMLESS        options of the task's own socket
socket_setsockopt           HARMLESS        options of the task's own socket: those that reach beyond it ask capable (SO_MARK, IP_TRANSPARENT, netfilter's tables, TCP_REPAIR, IPsec policies), autoload a module (kernel_module_request) or are decided at their own hook (SCTP's addresses: sctp_bind_connect); a multicast membership or SO_REUSEPORT only receives on a socket whose bind was decided (SO_REUSEPORT: same uid only)
socket_recvmsg              HARMLESS        receives on a socket whose socket, bind or connect was decided
socket_shutdown             HARMLESS        shuts down the task's own socket
socket_sock_rcv_skb         HARMLESS        incoming packets, in the network stack, not the task's doing
socket_getpeersec_stream    HARMLESS        SO_PEERSEC: a peer's LSM label (BPF keeps none)
socket_getpeersec_dgram     HARMLESS        a datagram's LSM label (BPF keeps none)
sctp_bind_connect           DECIDED         bind (sctp_bindx add, SCTP_PRIMARY_ADDR, SCTP_SET_PEER_PRIMARY_ADDR) and connect (sctp_connectx, sendmsg's implicit connect, ASCONF) on each address of the list, as socket_bind/socket_connect render one
sctp_assoc_request          HARMLESS        an incoming SCTP association to a socket whose listen was decided (network stack)
sctp_assoc_established      HARMLESS        an SCTP association completes on a socket whose connect or listen was decided
sctp_sk_clone               HARMLESS        void; SCTP peel-off/accept copying a decided socket's state
mptcp_add_subflow           HARMLESS        the kernel's subflow sockets of an MPTCP socket whose socket and connect were decided (6.12+)
inet_conn_request           HARMLESS        an incoming TCP connection to a socket whose listen was decided (network stack)
inet_csk_clone              HARMLESS        void; the child socket of a decided listen
inet_conn_established       HARMLESS        void; a TCP connection completes
sock_graft                  HARMLESS        void; a socket gets its inode
sk_alloc_security           HARMLESS        bookkeeping: the LSM blob of a new sock
sk_free_security            HARMLESS        void; a sock goes away
sk_clone_security           HARMLESS        void; a sock's blob copied to its clone
sk_getsecid                 HARMLESS        void; a label query for routing
req_classify_flow           HARMLESS        void; a label for a flow (BPF keeps none)
secmark_relabel_packet      HARMLESS        netfilter SECMARK rules, which need CAP_NET_ADMIN (capable)
secmark_refcount_inc        HARMLESS        void; netfilter SECMARK bookkeeping
secmark_refcount_dec        HARMLESS        void; netfilter SECMARK bookkeeping
netlink_send                HARMLESS        a netlink socket's family is its protocol, decided at socket_create (sockproto: proto(0) is route, proto(4) sock_diag, proto(16) generic netlink); within the family, changes ask CAP_NET_ADMIN of capable and reads see the task's own network namespace
tun_dev_create              HARMLESS        a new tun device needs /dev/net/tun opened (fswrite) and CAP_NET_ADMIN (capable)
tun_dev_attach              HARMLESS        attaching to a tun device needs /dev/net/tun opened (fswrite) and CAP_NET_ADMIN (capable) or the device's owner
tun_dev_attach_queue        HARMLESS        a queue of a tun device the task attached to
tun_dev_open                HARMLESS        opening a tun device: the open of /dev/net/tun was decided
tun_dev_alloc_security      HARMLESS        bookkeeping: the LSM blob of a tun device
tun_dev_free_security       HARMLESS        void; frees a tun device's blob (6.1)
xfrm_policy_alloc_security  HARMLESS        an IPsec policy: XFRM netlink and IP_XFRM_POLICY need CAP_NET_ADMIN (capable)
xfrm_policy_clone_security  HARMLESS        copies an IPsec policy's label when a socket is cloned
xfrm_policy_delete_security HARMLESS        deleting an IPsec policy needs CAP_NET_ADMIN (capable)
xfrm_policy_free_security   HARMLESS        void; an IPsec policy goes away
xfrm_state_alloc            HARMLESS        an IPsec state: XFRM netlink needs CAP_NET_ADMIN (capable)
xfrm_state_alloc_acquire    HARMLESS        the kernel's larval IPsec state for an outgoing packet
xfrm_state_delete_security  HARMLESS        deleting an IPsec state needs CAP_NET_ADMIN (capable)
xfrm_state_free_security    HARMLESS        void; an IPsec state goes away
xfrm_policy_lookup          HARMLESS        IPsec policy lookup in the network stack
xfrm_state_pol_flow_match   HARMLESS        IPsec state matching in the network stack (a 0/1 answer)
xfrm_decode_session         NOT_ATTACHABLE  the kernel refuses BPF programs here (6.1 and 6.12 bpf_lsm_disabled_hooks)
# ---- SysV IPC (the IPC namespace: shared with every service that has no PrivateIPC) ----
ipc_permission              HARMLESS        the mode-bit check under each System V call, each of which also reaches its own hook below (shm_shmat, msg_queue_msgsnd ...), decided
shm_associate               DECIDED         shmget on "": shmget(2) of an existing segment by key (the hook sees the object, not whose it is)
shm_shmat                   DECIDED         shmat on "": maps a segment (the hook sees the object, not whose it is)
shm_shmctl                  DECIDED         shmctl on "": every shmctl(2) command, IPC_INFO too (the hook sees the object, not whose it is)
msg_queue_associate         DECIDED         msgget on "": msgget(2) of an existing queue by key (the hook sees the object, not whose it is)
msg_queue_msgsnd            DECIDED         msgsnd on "": sends into a queue (the hook sees the object, not whose it is)
msg_queue_msgrcv            DECIDED         msgrcv on "": the receiver's own msgrcv(2); a message handed to a waiting receiver was decided as the sender's msgsnd (the hook sees the object, not whose it is)
msg_queue_msgctl            DECIDED         msgctl on "": every msgctl(2) command (the hook sees the object, not whose it is)
sem_associate               DECIDED         semget on "": semget(2) of an existing set by key (the hook sees the object, not whose it is)
sem_semop                   DECIDED         semop on "": semop, semtimedop (the hook sees the object, not whose it is)
sem_semctl                  DECIDED         semctl on "": every semctl(2) command (the hook sees the object, not whose it is)
shm_alloc_security          HARMLESS        bookkeeping: the LSM blob of a new segment (using it is decided: shm_shmat, shm_shmctl)
shm_free_security           HARMLESS        void; a segment goes away
msg_queue_alloc_security    HARMLESS        bookkeeping: the LSM blob of a new queue
msg_queue_free_security     HARMLESS        void; a queue goes away
msg_msg_alloc_security      HARMLESS        bookkeeping: the LSM blob of a message
msg_msg_free_security       HARMLESS        void; a message goes away
sem_alloc_security          HARMLESS        bookkeeping: the LSM blob of a new semaphore set
sem_free_security           HARMLESS        void; a semaphore set goes away
ipc_getsecid                HARMLESS        void; a label query for audit
ipc_getlsmprop              HARMLESS        a label query for audit (after 6.12)
# ---- keys ----
key_alloc                   DECIDED         add_key (add_key, request_key, KEYCTL_JOIN_SESSION_KEYRING) on "": a new key or keyring of the task's; the kernel's own under credentials of its own pass
key_permission              DECIDED         keyctl (and add_key, request_key) on "": each use of a key the task names, asked for its own credentials (the kernel's lookups on its own behalf pass)
key_free                    HARMLESS        void; a key goes away (6.1)
key_post_create_or_update   HARMLESS        void, after a key was made (6.12+)
key_getsecurity             NOT_ATTACHABLE  the kernel refuses BPF programs here (6.1 and 6.12 bpf_lsm_disabled_hooks)
# ---- audit ----
audit_rule_init             HARMLESS        an audit rule: adding one needs CAP_AUDIT_CONTROL (capable)
audit_rule_known            HARMLESS        whether an audit rule field is an LSM's (a 0/1 answer)
audit_rule_free             HARMLESS        void; an audit rule goes away
audit_rule_match            NOT_ATTACHABLE  the kernel refuses BPF programs here (6.1 and 6.12 bpf_lsm_disabled_hooks)
# ---- Android binder (Debian: the binder_linux module, /dev/binder) ----
binder_set_context_mgr      HARMLESS        binder IPC needs an open binder device, decided at its open (file_open)
binder_transaction          HARMLESS        binder IPC needs an open binder device, decided at its open (file_open)
binder_transfer_binder      HARMLESS        binder IPC needs an open binder device, decided at its open (file_open)
binder_transfer_file        HARMLESS        binder IPC needs an open binder device, decided at its open (file_open)
"""
