into:
  file.copy:
    - name: @ROOT@/work/dir
    - source: @ROOT@/work/src.conf
    - subdir: True
deep:
  file.copy:
    - name: @ROOT@/work/x/y/copy.conf
    - source: @ROOT@/work/src.conf
    - makedirs: True
