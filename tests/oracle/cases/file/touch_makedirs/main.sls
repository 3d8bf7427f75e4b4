t:
  file.touch:
    - name: @ROOT@/work/a/b/new
    - makedirs: True
