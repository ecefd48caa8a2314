# The Debian package: `cpack -G DEB` in a build directory (packaging/README.md).
# Included at the end of the top-level CMakeLists.txt, after every install() rule.
set(CPACK_PACKAGE_NAME smbx)
set(CPACK_PACKAGE_VENDOR "smbx")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "SMB 3.1.1 client that keeps applications running through server failover")
set(CPACK_PACKAGE_DESCRIPTION "mount.smbx mounts SMB 2/3 shares through FUSE (mount -t smbx, fstab), \
smbx is a command-line client, smbxctl shows live mounts, and smbxd is the reference server.")
set(CPACK_PACKAGE_CONTACT "smbx maintainers <smbx@localhost>")
# The package installs under /usr whatever CMAKE_INSTALL_PREFIX says (with
# CPACK_SET_DESTDIR, CPack stages with DESTDIR and this prefix).
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_GENERATOR DEB)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/smbx/smbx")
# Debian 12 names. fuse3 brings fusermount3 and /etc/fuse.conf; mount.smbx
# links libfuse3.so.3, OpenSSL 3's libcrypto and libstdc++; smbxd links libsqlite3. Listed by hand
# rather than with dpkg-shlibdeps so that a sanitizer build does not make the
# package depend on libasan.
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "fuse3, libfuse3-3 (>= 3.10), libssl3 (>= 3.0), libsqlite3-0 (>= 3.31), libc6 (>= 2.34), libstdc++6 (>= 12), libgcc-s1")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "samba-common-bin")
# mount.smbx must be where mount(8) runs /sbin/mount.TYPE: its install rule has
# an absolute destination (SMBX_MOUNT_HELPER_DIR, /usr/sbin on merged-/usr
# Debian), which DEB packages as it is.
set(CPACK_SET_DESTDIR ON)
include(CPack)
