d:
  file.directory:
    - name: @ROOT@/work/d
    - mode: 700
    - user: nobody
