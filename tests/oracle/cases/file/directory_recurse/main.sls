d:
  file.directory:
    - name: @ROOT@/work/d
    - user: nobody
    - group: nogroup
    - dir_mode: '0750'
    - file_mode: '0640'
    - recurse:
      - user
      - group
      - mode
