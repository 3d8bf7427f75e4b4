l:
  file.symlink:
    - name: @ROOT@/work/link
    - target: @ROOT@/work/target
    - backupname: @ROOT@/work/link.bak
