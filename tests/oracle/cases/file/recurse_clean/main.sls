r:
  file.recurse:
    - name: @ROOT@/work/tree
    - source: salt://tree
    - clean: True
    - exclude_pat: '*.local'
