r:
  file.recurse:
    - name: @ROOT@/work/tree
    - source: salt://tree
    - template: jinja
    - defaults:
        who: world
