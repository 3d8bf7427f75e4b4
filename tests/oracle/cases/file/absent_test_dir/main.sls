d:
  file.absent:
    - name: @ROOT@/work/tree
