{#- test=True only: Salt and saline read the host's APT sources and change nothing. #}
local-repo:
  pkgrepo.managed:
    - name: deb [trusted=yes] file:/srv/saline-oracle-repo ./
    - file: @ROOT@/work/local.list
    - refresh: False

old-repo:
  pkgrepo.absent:
    - name: deb http://saline-oracle.invalid/debian bookworm main

both-flags:
  pkgrepo.managed:
    - name: deb http://saline-oracle.invalid/debian bookworm main
    - enabled: True
    - disabled: False
