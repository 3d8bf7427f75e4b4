link:
  file.symlink:
    - name: @ROOT@/work/link.conf
    - target: @ROOT@/work/real.conf
follow:
  file.managed:
    - name: @ROOT@/work/link.conf
    - contents: through the link
    - require:
      - file: link
nofollow:
  file.managed:
    - name: @ROOT@/work/link2.conf
    - contents: replaces the link
    - follow_symlinks: False
    - require:
      - file: link2
link2:
  file.symlink:
    - name: @ROOT@/work/link2.conf
    - target: @ROOT@/work/real.conf
