# fstab handling only (mount: False): nothing is mounted on the host.
'@ROOT@/work/mnt/data':
  mount.mounted:
    - device: /dev/disk/by-label/nosuchdata
    - fstype: ext4
    - mkmnt: True
    - mount: False
    - opts: [defaults, noatime]
    - pass_num: 2
    - config: '@ROOT@/work/fstab'

'@ROOT@/work/mnt/tmp':
  mount.mounted:
    - device: tmpfs
    - fstype: tmpfs
    - mount: False
    - opts: size=64m,mode=1777
    - config: '@ROOT@/work/fstab'

'@ROOT@/work/mnt/same':
  mount.mounted:
    - device: /dev/nosuchsame
    - fstype: xfs
    - mount: False
    - config: '@ROOT@/work/fstab'

'@ROOT@/work/mnt/old':
  mount.unmounted:
    - persist: True
    - config: '@ROOT@/work/fstab'

'@ROOT@/work/mnt/nope':
  mount.unmounted:
    - persist: True
    - config: '@ROOT@/work/fstab'

'@ROOT@/work/mnt/missing':
  mount.mounted:
    - device: /dev/nosuchmissing
    - fstype: ext4
    - config: '@ROOT@/work/fstab'
