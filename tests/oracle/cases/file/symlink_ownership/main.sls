l:
  file.symlink:
    - name: @ROOT@/work/link
    - target: @ROOT@/work/target
    - user: nobody
    - group: nogroup
