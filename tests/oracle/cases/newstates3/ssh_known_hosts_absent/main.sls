example.org:
  ssh_known_hosts.absent:
    - config: '@ROOT@/work/known_hosts'

missing.example.org:
  ssh_known_hosts.absent:
    - config: '@ROOT@/work/known_hosts'

nofile.example.org:
  ssh_known_hosts.absent:
    - config: '@ROOT@/work/none'
