dir_clean:
  file.directory:
    - name: {{ grains.tmp }}/d
    - clean: True
    - exclude_pat: ["*.keep", "E@^old"]
recursed:
  file.recurse:
    - name: {{ grains.tmp }}/r
    - source: salt://tree
    - exclude_pat: ["*.bak", "E@^other"]
