a:
  file.append:
    - name: @ROOT@/work/x/y/new.conf
    - text: hello
    - makedirs: True
