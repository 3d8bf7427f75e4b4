d:
  file.directory:
    - name: @ROOT@/work/d
    - clean: True
    - exclude_pat: '*.keep'
