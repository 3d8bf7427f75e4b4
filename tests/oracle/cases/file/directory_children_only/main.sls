d:
  file.directory:
    - name: @ROOT@/work/d
    - dir_mode: '0700'
    - file_mode: '0600'
    - children_only: True
    - recurse:
      - mode
