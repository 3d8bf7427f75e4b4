new key:
  ssh_auth.present:
    - name: AAAAC3NzaC1lZDI1NTE5AAAAIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f
    - user: root
    - enc: ed25519
    - comment: new@host
    - config: '@ROOT@/work/ak'
changed options:
  ssh_auth.present:
    - name: 'command="/bin/true",no-pty ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g old@host'
    - user: root
    - config: '@ROOT@/work/ak'
in new file:
  ssh_auth.present:
    - name: AAAAC3NzaC1lZDI1NTE5AAAAIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f one comment
    - user: root
    - enc: ssh-ed25519
    - config: '@ROOT@/work/sub/keys'
gone:
  ssh_auth.absent:
    - name: AAAAC3NzaC1lZDI1NTE5AAAAIAIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAh
    - user: root
    - config: '@ROOT@/work/ak'
never there:
  ssh_auth.absent:
    - name: AAAAC3NzaC1lZDI1NTE5AAAAIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f
    - user: root
    - config: '@ROOT@/work/none'
bad key:
  ssh_auth.present:
    - name: notbase64!!
    - user: root
    - config: '@ROOT@/work/ak'
from file:
  ssh_auth.present:
    - name: ignored
    - user: root
    - source: salt://keys/team.pub
    - config: '@ROOT@/work/team'
