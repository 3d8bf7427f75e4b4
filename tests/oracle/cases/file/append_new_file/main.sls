a:
  file.append:
    - name: @ROOT@/work/new.conf
    - text: hello
