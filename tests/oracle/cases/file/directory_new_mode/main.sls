d:
  file.directory:
    - name: @ROOT@/work/newdir
    - mode: '0750'
