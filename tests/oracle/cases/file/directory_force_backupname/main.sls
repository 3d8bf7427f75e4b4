forced:
  file.directory:
    - name: @ROOT@/work/was_file
    - force: True
backed:
  file.directory:
    - name: @ROOT@/work/was_file2
    - backupname: @ROOT@/work/was_file2.bak
