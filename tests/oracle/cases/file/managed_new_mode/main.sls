new_file:
  file.managed:
    - name: @ROOT@/work/a.conf
    - mode: '0600'
    - contents: hello
