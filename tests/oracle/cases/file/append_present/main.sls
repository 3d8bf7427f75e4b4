a:
  file.append:
    - name: @ROOT@/work/f.conf
    - text: line one
