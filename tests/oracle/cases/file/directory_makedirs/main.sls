d:
  file.directory:
    - name: @ROOT@/work/a/b/c
    - makedirs: True
    - user: nobody
    - group: nogroup
