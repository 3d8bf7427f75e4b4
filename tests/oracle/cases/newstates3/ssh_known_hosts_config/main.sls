# A known_hosts file under the case root, keys given (no ssh-keyscan), names in clear.
example.org:
  ssh_known_hosts.present:
    - config: '@ROOT@/work/known_hosts'
    - enc: ssh-ed25519
    - key: AAAAC3NzaC1lZDI1NTE5AAAAIM52VZSyiUgWu2u6CpTCFQ6JjOHQeVExp0RKionIwXEG
    - hash_known_hosts: False

other.example.org:
  ssh_known_hosts.present:
    - config: '@ROOT@/work/known_hosts'
    - enc: ecdsa-sha2-nistp256
    - key: AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBKayh+eXlJCJSLu3B2MpVBjf3TxtyZx8j6MYTEsOBNBx9/kNoX/aQgclSg7oHyTzuDWP/h+7YtfwYzkTPXcIRp0=
    - hash_known_hosts: False

ported:
  ssh_known_hosts.present:
    - name: git.example.org
    - port: 2222
    - config: '@ROOT@/work/known_hosts'
    - enc: ssh-ed25519
    - key: AAAAC3NzaC1lZDI1NTE5AAAAIM52VZSyiUgWu2u6CpTCFQ6JjOHQeVExp0RKionIwXEG
    - hash_known_hosts: False

gone.example.org:
  ssh_known_hosts.absent:
    - config: '@ROOT@/work/known_hosts'

relative:
  ssh_known_hosts.present:
    - name: rel.example.org
    - config: known_hosts
    - enc: ssh-ed25519
    - key: AAAAC3NzaC1lZDI1NTE5AAAAIM52VZSyiUgWu2u6CpTCFQ6JjOHQeVExp0RKionIwXEG

both:
  ssh_known_hosts.present:
    - name: both.example.org
    - config: '@ROOT@/work/kh2'
    - key: AAAAC3NzaC1lZDI1NTE5AAAAIM52VZSyiUgWu2u6CpTCFQ6JjOHQeVExp0RKionIwXEG
