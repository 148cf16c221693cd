#!/usr/bin/env bash
# What VulkanStageTest needs: a Vulkan driver. Debian's mesa-vulkan-drivers carries lavapipe, Mesa's Vulkan driver
# on the CPU, so a machine without a GPU runs llama.cpp's Vulkan backend too (slowly). Installs it when missing and
# we are root with apt-get (as CI is); otherwise says how, and fails. Exit status 0 when a driver is there afterwards.
set -euo pipefail
ICD_DIR="/usr/share/vulkan/icd.d"

have_driver() { ls "$ICD_DIR"/lvp_icd*.json >/dev/null 2>&1 && ldconfig -p | grep -q "libvulkan.so.1"; }

if ! have_driver; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "install-vulkan: no lavapipe in $ICD_DIR (or no libvulkan.so.1): apt-get install mesa-vulkan-drivers libvulkan1" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq mesa-vulkan-drivers libvulkan1 >&2
  else
    echo "install-vulkan: no lavapipe in $ICD_DIR and this is not root with apt-get: install Debian's" >&2
    echo "install-vulkan: mesa-vulkan-drivers (sudo apt-get install mesa-vulkan-drivers)" >&2
    exit 1
  fi
  have_driver || { echo "install-vulkan: apt-get installed mesa-vulkan-drivers, yet $ICD_DIR has no lvp_icd*.json" >&2; exit 1; }
fi
echo "install-vulkan: $(ls "$ICD_DIR"/lvp_icd*.json | head -1)" >&2
