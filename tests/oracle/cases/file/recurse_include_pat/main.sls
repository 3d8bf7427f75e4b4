r:
  file.recurse:
    - name: @ROOT@/work/tree
    - source: salt://tree
    - include_pat: '*.conf'
    - file_mode: '0600'
    - dir_mode: '0700'
